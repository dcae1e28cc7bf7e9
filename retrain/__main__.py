"""The retraining loop's commands.

    python -m retrain train    --model fraud_detector [--hours 2] [--min-rows 2000] [--min-positives 40]
                               [--negatives-per-positive K] [--reference-rows N]   # `make retrain`
    python -m retrain status   --model fraud_detector     # the versions document and the live comparison (JSON)
    python -m retrain promote  --model fraud_detector [--if-wins]   # the challenger becomes the champion
    python -m retrain rollback --model fraud_detector     # back to the champion before the last promotion

`--if-wins` promotes only when the challenger beats the champion on the live window (PromotionRule: see
drift/comparison.py; PROMOTION_MIN_LABELLED, PROMOTION_MIN_POSITIVES, PROMOTION_MIN_IMPROVEMENT). Environment:
REDIS_URL, ALERTMANAGER_URL (notifications), DRIFT_WINDOW_HOURS (the comparison's window).
`train` builds a new version from the recent labelled traffic in Redis (retrain/selection.py says which rows and
why), trains it with bento_service/train.py's code and registers it as the challenger in shadow mode.
Exit status: 0 done, 2 refused (the message names the field), 3 not enough labelled data, 4 another retraining of
the model is running, 5 --if-wins and the challenger has not won.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys

import redis

from contracts import model_versions as versions
from contracts.policy import DEFAULT as POLICY
from drift_client.redis_client import connect
from drift.comparison import PromotionRule
from retrain import notify, promotion
from retrain.selection import NotEnoughData, SelectionPolicy

EXIT_REFUSED, EXIT_NOT_ENOUGH_DATA, EXIT_LOCKED, EXIT_NOT_WON = 2, 3, 4, 5


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m retrain", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("train", "status", "promote", "rollback"):
        command = sub.add_parser(name)
        command.add_argument("--model", default=os.environ.get("MODEL_NAME", "fraud_detector"))
        command.add_argument("--hours", type=float, default=float(os.environ.get("DRIFT_WINDOW_HOURS", POLICY.window_hours)),
                             help="how far back: the comparison's window; for train, the labelled traffic learnt from")
        if name == "train":
            defaults = SelectionPolicy()
            command.set_defaults(hours=defaults.hours)
            command.add_argument("--min-rows", type=int, default=defaults.min_rows)
            command.add_argument("--min-positives", type=int, default=defaults.min_positives)
            command.add_argument("--negatives-per-positive", type=float, default=None)
            command.add_argument("--reference-rows", type=int, default=0,
                                 help="rows of the original training distribution mixed into the training split")
            command.add_argument("--seed", type=int, default=0)
        if name == "promote":
            command.add_argument("--if-wins", action="store_true", help="only if the challenger beats the champion now")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # REDIS_URL + REDIS_PASSWORD_FILE, as every other client (make up's Redis requires a password)
    client = connect(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), socket_timeout=5)
    rule = PromotionRule.from_env()
    try:
        if args.command == "train":
            return train(client, args)
        if args.command == "status":
            state = versions.load(client, args.model)
            result = promotion.current_comparison(client, args.model, args.hours, rule)
            print(json.dumps({"versions": state.to_api() if state else None,
                              "previous_champion": state.previous_champion if state else None,
                              "comparison": result.to_dict() if result else None}, indent=2))
            return 0
        if args.command == "promote":
            if args.if_wins:
                result = promotion.promote_if_wins(client, args.model, args.hours, rule)
                if result is None or not result.challenger_wins:
                    print(f"not promoted: {promotion.describe(result) if result else 'no challenger to compare'}")
                    return EXIT_NOT_WON
            else:
                promotion.promote(client, args.model)
        else:
            promotion.rollback(client, args.model)
    except versions.InvalidVersions as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print(json.dumps(versions.load(client, args.model).to_api()))
    return 0


def train(client: redis.Redis, args: argparse.Namespace) -> int:
    from retrain.job import Locked, run  # the training stack loads only for this command

    policy = SelectionPolicy(hours=args.hours, min_rows=args.min_rows, min_positives=args.min_positives,
                             negatives_per_positive=args.negatives_per_positive, reference_rows=args.reference_rows,
                             seed=args.seed)
    try:
        state = run(client, args.model, policy)
    except NotEnoughData as exc:
        print(f"not retrained: {exc}", file=sys.stderr)
        notify.event("ModelRetrainingSkipped", args.model, f"Retraining of {args.model} skipped: {exc}")
        return EXIT_NOT_ENOUGH_DATA
    except Locked as exc:
        print(f"not retrained: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    print(json.dumps(state.to_api()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

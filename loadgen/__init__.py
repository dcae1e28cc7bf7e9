"""Synthetic traffic for the fraud service (Locust); `traffic` holds the logic tests can import without Locust."""

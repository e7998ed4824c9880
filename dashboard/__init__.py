"""The panels: the provider control panel, the reseller dashboard and the customer portal.
Reads every app; nothing imports it."""

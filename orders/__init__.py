"""Ordering: catalogue, price lists, orders and their validation chain, subscriptions. Imports
the ledger (billing.ledger) and resellers."""

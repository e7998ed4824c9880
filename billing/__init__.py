"""Billing: the ledger (documents, applications, balances, credit, payments, taxes) below orders,
and the billing runs (billing.runs) above them."""

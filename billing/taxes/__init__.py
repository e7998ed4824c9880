"""Taxes: taxation rules, the built-in rate engine and plug-in adapters for external engines.

Part of the ledger: imports `resellers` and `billing.money` only. The billing run calls
`billing.taxes.services.TaxCalculator`; see docs/decisions.md, "Taxes".
"""

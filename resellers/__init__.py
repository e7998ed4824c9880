"""Accounts: the provider, reseller and customer tree, contacts, payment methods, users and
tenancy. Imports no other app."""

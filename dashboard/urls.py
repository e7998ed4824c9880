"""URLs of the panels.

Provider control panel (provider staff): /billing/, /billing/resellers/, /billing/resellers/<pk>/,
/billing/resellers/<pk>/edit/, /billing/resellers/<pk>/payments/new/ (record an offline payment),
/billing/resellers/<pk>/pay-with-credit/ (POST), /billing/customers/, /billing/customers/<pk>/,
/billing/customers/<pk>/payments/new/, /billing/resellers/<pk>/memos/new/ and
/billing/customers/<pk>/memos/new/ (issue a debit or credit memo, dashboard/memo_views.py).
Reseller and customer users: /dashboard/ (a resale reseller's home page: seed 004's General
Statistics, Product Mix and order widgets; 404 for anyone else), /account/,
/account/pay-with-credit/ (POST), /account/customers/, /account/customers/<pk>/.
/account/customers/<pk>/order-approval/ (POST: a resale reseller switches the customer's Order
Approval toggle). /account/topup/ (a reseller or a customer the provider bills tops up by card),
/account/cards/add/ (it adds a card, whatever its usual way of paying), /account/pay/ (it pays
chosen open documents by card; ?document=<pk> ticks one, dashboard/pay_views.py),
/account/card-payments/ (POST: a resale reseller takes its customers' cards online, or not),
/account/auto-topup/ (a reseller sets its automatic top-up), /account/dunning/ (a resale reseller's
customers in dunning and its dunning policy for them; dashboard/dunning_views.py),
/account/payment-methods/<pk>/remove/ (GET asks, POST removes one) and
/account/payment-methods/<pk>/default/ (POST).
The wallet (dashboard/wallet_views.py): /account/wallet/ (figures, open documents, transactions),
/account/wallet/pay/ (POST: one card payment over the open documents, oldest due first) and
/account/wallet/apply-credit/ (POST: the credit balance to ticked documents); read-only, another
account's: /billing/resellers/<pk>/wallet/, /billing/customers/<pk>/wallet/ (provider staff) and
/account/customers/<pk>/wallet/ (a resale reseller's customer).
Everyone, scoped: /documents/<pk>/ and its PDF /documents/<pk>/pdf/; provider staff only:
/documents/<pk>/apply/ (POST), /documents/<pk>/applications/<application_pk>/unlink/ (POST) and
/documents/<pk>/refund/ (refund a payment's or credit memo's unapplied amount).

Ordering (end customers, and resale resellers for themselves): /order/ (the catalogue; POST adds
to the basket), /order/basket/ (POST: quantities, or remove), /order/review/ (POST: submit).
Orders, scoped: /orders/ (a customer's or a reseller's list; provider staff go to
/billing/orders/), /orders/<pk>/ (`order-status`, linked from the emails), and POST
/orders/<pk>/accept/, /orders/<pk>/cancel/, /orders/<pk>/execute/ (provider staff).
Provider: /billing/orders/ (orders for the distributor, and every order).
Provider: /billing/dunning/ (accounts by dunning stage, and the provider's dunning policy).
Provider: /billing/runs/ (billing runs; POST starts one, or a dry run), /billing/runs/start/ (GET:
a real run's confirmation page, or a dry run; POST starts it) and /billing/runs/<pk>/.
Destructive actions ask first (dashboard/confirmations.py): a GET on the URL of order cancel and
execute, subscription cancel, unlink, tax rule delete shows what will happen; the POST does it.
Taxes (dashboard/tax_views.py): /billing/taxes/ (provider staff; ?owner=<resale reseller id>) and
/account/taxes/ (a resale reseller's users): rules, rates, engine accounts; POST adds a rule or a
rate, POST .../rules/<pk>/delete/ deletes a rule. POST /billing/resellers/<pk>/tax-profile/,
/billing/customers/<pk>/tax-profile/, /account/customers/<pk>/tax-profile/ set a tax profile.
Signing in (dashboard/auth_views.py): /password/reset/ (by email) and /password/change/; a user's
API tokens on /account/ (staff: /account/api-tokens/), POST /account/api-tokens/<id>/revoke/,
/account/api-tokens/revoke-all/, /account/sign-out-everywhere/.
Account set-up (dashboard/account_views.py, provider staff): /billing/customers/new/ (a customer,
tagged to a referral reseller by its code), /billing/customer-classes/ and
/billing/customer-classes/<pk>/ (classes and their billing policies), POST
/billing/accounts/<pk>/customer-class/ (an account's class).
Billing details (dashboard/details_views.py: address, tax ID, payment instructions): provider
staff edit the provider's own at /billing/company/, a reseller's at
/billing/resellers/<pk>/details/ and a customer's at /billing/customers/<pk>/details/; a
reseller's or customer's users edit their own at /account/details/.
Webhooks (dashboard/webhook_views.py, provider staff): /billing/webhooks/ (endpoints; POST
registers one), /billing/webhooks/<pk>/ (edit; POST .../secret/ shows the secret;
.../rotate-secret/ and .../deactivate/ ask first), /billing/webhooks/<pk>/deliveries/ (the
delivery log) with .../deliveries/<delivery_pk>/ and POST .../deliveries/<delivery_pk>/resend/.
"""

from django.contrib.auth import views as auth_views
from django.urls import path

from dashboard import (
    account_views,
    details_views,
    dunning_views,
    memo_views,
    order_views,
    pay_views,
    payment_method_views,
    report_views,
    run_views,
    tax_views,
    topup_views,
    transaction_views,
    usage_views,
    views,
    wallet_views,
    webhook_views,
)
from dashboard import auth_views as panel_auth

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # password reset by email, password change, API tokens (dashboard/auth_views.py)
    path("password/reset/", panel_auth.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        panel_auth.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("account/api-tokens/", panel_auth.ApiTokensView.as_view(), name="api_tokens"),
    path(
        "account/api-tokens/revoke-all/",
        panel_auth.ApiTokensRevokeAllView.as_view(),
        name="api_tokens_revoke_all",
    ),
    path(
        "account/api-tokens/<str:digest>/revoke/",
        panel_auth.ApiTokenRevokeView.as_view(),
        name="api_token_revoke",
    ),
    path(
        "account/sign-out-everywhere/",
        panel_auth.SignOutEverywhereView.as_view(),
        name="sign_out_everywhere",
    ),
    # provider control panel
    path(
        "dashboard/product-mix.svg", views.ProductMixChartView.as_view(), name="product_mix_chart"
    ),
    path("signup/", report_views.SignUpView.as_view(), name="signup"),
    path("billing/reports/", report_views.ReportsView.as_view(), name="reports"),
    path(
        "billing/reports/payouts/paid/", report_views.PayoutPaidView.as_view(), name="payout_paid"
    ),
    path(
        "billing/resellers/<int:pk>/commission/",
        report_views.CommissionRateView.as_view(),
        name="reseller_commission",
    ),
    path("account/referrals/", report_views.OwnReferralsView.as_view(), name="own_referrals"),
    path("billing/", views.BillingView.as_view(), name="billing"),
    path("billing/resellers/", views.ResellerListView.as_view(), name="reseller_list"),
    path("billing/resellers/<int:pk>/", views.ResellerDetailView.as_view(), name="reseller_detail"),
    path(
        "billing/resellers/<int:pk>/edit/",
        views.ResellerFinancialsEditView.as_view(),
        name="reseller_edit",
    ),
    path(
        "billing/resellers/<int:pk>/payments/new/",
        views.PaymentRecordView.as_view(),
        name="reseller_payment_record",
    ),
    path(
        "billing/resellers/<int:pk>/memos/new/",
        memo_views.MemoIssueView.as_view(),
        name="reseller_memo_issue",
    ),
    path(
        "billing/resellers/<int:pk>/pay-with-credit/",
        views.ResellerCreditBalancePayView.as_view(),
        name="reseller_credit_pay",
    ),
    path(
        "billing/orders/", order_views.DistributorOrderListView.as_view(), name="distributor_orders"
    ),
    path("billing/runs/", run_views.BillingRunListView.as_view(), name="billing_runs"),
    path("billing/dunning/", dunning_views.ProviderDunningView.as_view(), name="dunning"),
    path("billing/runs/start/", run_views.BillingRunStartView.as_view(), name="billing_run_start"),
    path(
        "billing/runs/<int:pk>/",
        run_views.BillingRunDetailView.as_view(),
        name="billing_run_detail",
    ),
    path("billing/webhooks/", webhook_views.WebhookListView.as_view(), name="webhooks"),
    path(
        "billing/webhooks/<int:pk>/", webhook_views.WebhookEditView.as_view(), name="webhook_edit"
    ),
    path(
        "billing/webhooks/<int:pk>/secret/",
        webhook_views.WebhookSecretView.as_view(),
        name="webhook_secret",
    ),
    path(
        "billing/webhooks/<int:pk>/rotate-secret/",
        webhook_views.WebhookRotateSecretView.as_view(),
        name="webhook_rotate_secret",
    ),
    path(
        "billing/webhooks/<int:pk>/deactivate/",
        webhook_views.WebhookDeactivateView.as_view(),
        name="webhook_deactivate",
    ),
    path(
        "billing/webhooks/<int:pk>/deliveries/",
        webhook_views.WebhookDeliveriesView.as_view(),
        name="webhook_deliveries",
    ),
    path(
        "billing/webhooks/<int:pk>/deliveries/<int:delivery_pk>/",
        webhook_views.WebhookDeliveryDetailView.as_view(),
        name="webhook_delivery",
    ),
    path(
        "billing/webhooks/<int:pk>/deliveries/<int:delivery_pk>/resend/",
        webhook_views.WebhookResendView.as_view(),
        name="webhook_resend",
    ),
    path("billing/taxes/", tax_views.TaxesView.as_view(), name="taxes"),
    path(
        "billing/transactions/",
        transaction_views.TransactionListView.as_view(),
        name="transactions",
    ),
    path(
        "billing/transactions/<int:pk>/correct/",
        transaction_views.TransactionCorrectView.as_view(),
        name="transaction_correct",
    ),
    path(
        "billing/transactions/<int:pk>/cancel/",
        transaction_views.TransactionCancelView.as_view(),
        name="transaction_cancel",
    ),
    path(
        "billing/taxes/rules/<int:pk>/delete/",
        tax_views.TaxRuleDeleteView.as_view(),
        name="tax_rule_delete",
    ),
    path(
        "billing/resellers/<int:pk>/tax-profile/",
        tax_views.TaxProfileSetView.as_view(),
        name="reseller_tax_profile",
    ),
    path(
        "billing/customers/<int:pk>/tax-profile/",
        tax_views.CustomerTaxProfileSetView.as_view(),
        name="customer_tax_profile",
    ),
    path("billing/customers/", views.CustomerListView.as_view(), name="customer_list"),
    path(
        "billing/customers/new/",
        account_views.CustomerCreateView.as_view(),
        name="customer_create",
    ),
    path(
        "billing/customer-classes/",
        account_views.CustomerClassListView.as_view(),
        name="customer_classes",
    ),
    path(
        "billing/customer-classes/<int:pk>/",
        account_views.CustomerClassEditView.as_view(),
        name="customer_class_edit",
    ),
    path(
        "billing/accounts/<int:pk>/customer-class/",
        account_views.AccountClassView.as_view(),
        name="account_customer_class",
    ),
    path("billing/customers/<int:pk>/", views.CustomerDetailView.as_view(), name="customer_detail"),
    # billing details (dashboard/details_views.py)
    path("billing/company/", details_views.CompanyDetailsView.as_view(), name="company_details"),
    path(
        "billing/resellers/<int:pk>/details/",
        details_views.ResellerDetailsEditView.as_view(),
        name="reseller_details_edit",
    ),
    path(
        "billing/customers/<int:pk>/details/",
        details_views.CustomerDetailsEditView.as_view(),
        name="customer_details_edit",
    ),
    path("account/details/", details_views.OwnDetailsEditView.as_view(), name="own_details_edit"),
    path(
        "billing/customers/<int:pk>/payments/new/",
        views.CustomerPaymentRecordView.as_view(),
        name="customer_payment_record",
    ),
    path(
        "billing/customers/<int:pk>/memos/new/",
        memo_views.CustomerMemoIssueView.as_view(),
        name="customer_memo_issue",
    ),
    # reseller and customer users
    path("dashboard/", views.ResellerDashboardView.as_view(), name="reseller_dashboard"),
    path("account/", views.OwnAccountView.as_view(), name="account"),
    path(
        "account/pay-with-credit/", views.OwnCreditBalancePayView.as_view(), name="own_credit_pay"
    ),
    path("account/topup/", topup_views.TopupView.as_view(), name="topup"),
    path("account/auto-topup/", topup_views.AutoTopupEditView.as_view(), name="own_auto_topup"),
    path("account/dunning/", dunning_views.ResellerDunningView.as_view(), name="own_dunning"),
    path("account/pay/", pay_views.PayView.as_view(), name="pay"),
    path("account/wallet/", wallet_views.OwnWalletView.as_view(), name="own_wallet"),
    path("account/wallet/pay/", wallet_views.OwnWalletPayView.as_view(), name="own_wallet_pay"),
    path(
        "account/wallet/apply-credit/",
        wallet_views.OwnWalletCreditView.as_view(),
        name="own_wallet_credit",
    ),
    path(
        "account/customers/<int:pk>/wallet/",
        wallet_views.OwnCustomerWalletView.as_view(),
        name="own_customer_wallet",
    ),
    path(
        "billing/resellers/<int:pk>/wallet/",
        wallet_views.AccountWalletView.as_view(),
        name="reseller_wallet",
    ),
    path(
        "billing/customers/<int:pk>/wallet/",
        wallet_views.CustomerWalletView.as_view(),
        name="customer_wallet",
    ),
    path(
        "account/card-payments/",
        pay_views.CardPaymentsToggleView.as_view(),
        name="own_card_payments",
    ),
    path("account/cards/add/", payment_method_views.CardAddView.as_view(), name="card_add"),
    path(
        "account/payment-methods/<int:pk>/remove/",
        payment_method_views.PaymentMethodRemoveView.as_view(),
        name="payment_method_remove",
    ),
    path(
        "account/payment-methods/<int:pk>/default/",
        payment_method_views.PaymentMethodDefaultView.as_view(),
        name="payment_method_default",
    ),
    path("account/taxes/", tax_views.OwnTaxesView.as_view(), name="own_taxes"),
    path(
        "account/taxes/rules/<int:pk>/delete/",
        tax_views.OwnTaxRuleDeleteView.as_view(),
        name="own_tax_rule_delete",
    ),
    path(
        "account/customers/<int:pk>/tax-profile/",
        tax_views.OwnCustomerTaxProfileSetView.as_view(),
        name="own_customer_tax_profile",
    ),
    path("account/customers/", views.OwnCustomerListView.as_view(), name="own_customer_list"),
    path(
        "account/customers/<int:pk>/",
        views.OwnCustomerDetailView.as_view(),
        name="own_customer_detail",
    ),
    path(
        "account/customers/<int:pk>/order-approval/",
        order_views.CustomerOrderApprovalView.as_view(),
        name="own_customer_order_approval",
    ),
    # ordering
    path("order/", order_views.CatalogueView.as_view(), name="order_catalogue"),
    path("order/basket/", order_views.BasketView.as_view(), name="basket"),
    path("order/review/", order_views.OrderReviewView.as_view(), name="order_review"),
    # orders, for anyone who may see them
    path("orders/", order_views.OrderListView.as_view(), name="order_list"),
    path("orders/<int:pk>/", order_views.OrderDetailView.as_view(), name="order-status"),
    path("orders/<int:pk>/accept/", order_views.OrderAcceptView.as_view(), name="order_accept"),
    path("orders/<int:pk>/cancel/", order_views.OrderCancelView.as_view(), name="order_cancel"),
    path("orders/<int:pk>/correct/", order_views.OrderCorrectView.as_view(), name="order_correct"),
    path(
        "subscriptions/<int:pk>/usage/",
        usage_views.SubscriptionUsageView.as_view(),
        name="subscription_usage",
    ),
    path(
        "subscriptions/<int:pk>/usage/<int:record>/correct/",
        usage_views.UsageCorrectView.as_view(),
        name="usage_correct",
    ),
    path(
        "subscriptions/<int:pk>/cancel/",
        order_views.SubscriptionCancelView.as_view(),
        name="subscription_cancel",
    ),
    path(
        "subscriptions/<int:pk>/suspend/",
        order_views.SubscriptionSuspendView.as_view(),
        name="subscription_suspend",
    ),
    path(
        "subscriptions/<int:pk>/resume/",
        order_views.SubscriptionResumeView.as_view(),
        name="subscription_resume",
    ),
    path("orders/<int:pk>/execute/", order_views.OrderExecuteView.as_view(), name="order_execute"),
    # documents, for anyone who may see them
    path("documents/<int:pk>/", views.DocumentDetailView.as_view(), name="document_detail"),
    path("documents/<int:pk>/pdf/", views.DocumentPdfView.as_view(), name="document_pdf"),
    path(
        "documents/<int:pk>/apply/",
        views.ApplicationCreateView.as_view(),
        name="application_create",
    ),
    path(
        "documents/<int:pk>/applications/<int:application_pk>/unlink/",
        views.ApplicationRemoveView.as_view(),
        name="application_remove",
    ),
    path(
        "documents/<int:pk>/refund/",
        memo_views.DocumentRefundView.as_view(),
        name="document_refund",
    ),
]

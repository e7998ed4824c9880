"""URLs of the panels.

Provider control panel (provider staff): /billing/, /billing/resellers/, /billing/resellers/<pk>/,
/billing/resellers/<pk>/edit/, /billing/customers/, /billing/customers/<pk>/.
Reseller and customer users: /account/, /account/customers/, /account/customers/<pk>/.
Everyone, scoped: /documents/<pk>/.
"""

from django.contrib.auth import views as auth_views
from django.urls import path

from dashboard import views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # provider control panel
    path("billing/", views.BillingView.as_view(), name="billing"),
    path("billing/resellers/", views.ResellerListView.as_view(), name="reseller_list"),
    path("billing/resellers/<int:pk>/", views.ResellerDetailView.as_view(), name="reseller_detail"),
    path(
        "billing/resellers/<int:pk>/edit/",
        views.ResellerFinancialsEditView.as_view(),
        name="reseller_edit",
    ),
    path("billing/customers/", views.CustomerListView.as_view(), name="customer_list"),
    path("billing/customers/<int:pk>/", views.CustomerDetailView.as_view(), name="customer_detail"),
    # reseller and customer users
    path("account/", views.OwnAccountView.as_view(), name="account"),
    path("account/customers/", views.OwnCustomerListView.as_view(), name="own_customer_list"),
    path(
        "account/customers/<int:pk>/",
        views.OwnCustomerDetailView.as_view(),
        name="own_customer_detail",
    ),
    # documents, for anyone who may see them
    path("documents/<int:pk>/", views.DocumentDetailView.as_view(), name="document_detail"),
]

from django.urls import path

from polaris.sep24 import interactive, views

urlpatterns = [
    path("info", views.info, name="sep24-info"),
    path("fee", views.fee, name="sep24-fee"),
    path("transactions/deposit/interactive", views.deposit, name="sep24-deposit"),
    path("transactions/withdraw/interactive", views.withdraw, name="sep24-withdraw"),
    path("transactions", views.transactions, name="sep24-transactions"),
    path("transaction", views.transaction, name="sep24-transaction"),
    path("transaction/more_info", interactive.more_info, name="sep24-more-info"),
]
for kind in ("deposit", "withdraw"):
    urlpatterns += [
        path(f"transactions/{kind}/webapp", interactive.webapp, {"kind": kind}, name=f"sep24-{kind}-webapp"),
        path(
            f"transactions/{kind}/interactive/complete",
            interactive.complete,
            {"kind": kind},
            name=f"sep24-{kind}-complete",
        ),
    ]

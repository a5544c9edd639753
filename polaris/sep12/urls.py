from django.urls import path

from polaris.sep12 import views

urlpatterns = [
    path("customer", views.customer, name="sep12-customer"),
    path("customer/callback", views.callback, name="sep12-customer-callback"),
    path("customer/verification", views.verification, name="sep12-customer-verification"),
    path("customer/<str:account>", views.delete_customer, name="sep12-customer-delete"),
]

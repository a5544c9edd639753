from django.urls import path

from polaris.sep1 import views

urlpatterns = [path("stellar.toml", views.stellar_toml, name="sep1-stellar-toml")]

from django.urls import path

from polaris.sep10 import views

urlpatterns = [path("", views.auth, name="sep10-auth")]

from django.urls import path

from kapstone.companion import placeholders

app_name = "journal"
urlpatterns = [
    path("", placeholders.placeholder("Journal", "journal"), name="home"),
]

from django.urls import path

from kapstone.companion import placeholders

app_name = "notify"
urlpatterns = [
    path("", placeholders.placeholder("Notifications", "notify"), name="preferences"),
]

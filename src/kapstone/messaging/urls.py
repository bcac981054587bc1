from django.urls import path

from kapstone.companion import placeholders

app_name = "messaging"
urlpatterns = [
    path("", placeholders.placeholder("Messages", "messaging"), name="home"),
]

from django.urls import path

from kapstone.companion import placeholders

app_name = "preparation"
urlpatterns = [
    path("", placeholders.placeholder("Prepare", "preparation"), name="prepare"),
]

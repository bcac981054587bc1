from django.urls import path

from kapstone.today import views

app_name = "today"
urlpatterns = [
    path("today/", views.board, name="board"),
    path("today/board/", views.board_fragment, name="board_fragment"),
    path(
        "today/patients/<int:patient_id>/sessions/<int:session_id>/check-in/",
        views.check_in,
        name="check_in",
    ),
]

from django.urls import path

from kapstone.ledger import views

app_name = "ledger"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("products/", views.products, name="products"),
    path("locations/", views.locations, name="locations"),
    path("receive/", views.receive, name="receive"),
    path("draw/", views.draw, name="draw"),
    path("draws/<int:draw_id>/", views.draw_detail, name="draw_detail"),
    path("waste/", views.stock_waste, name="stock_waste"),
    path("destroy/", views.destroy, name="destroy"),
    path("transfer/", views.transfer, name="transfer"),
    path("count/", views.count, name="count"),
    path("counts/<int:count_id>/", views.count_detail, name="count_detail"),
    path("discrepancies/<int:discrepancy_id>/", views.resolve, name="resolve"),
    path("entries/", views.entries, name="entries"),
    path("entries/<int:ledger_entry_id>/reverse/", views.reverse, name="reverse"),
    *(
        path(f"reports/{key}/", views.report, {"report": key}, name=f"report_{key}")
        for key in ("dispensing", "inventory", "biennial", "waste", "discrepancies")
    ),
]

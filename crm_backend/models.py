"""Every table, imported in one place so Alembic and the relationship registry see them all."""

from crm_backend.core.database import Base
from crm_backend.customers.models import Customer
from crm_backend.orders.models import Order, OrderItem, OrderStatusChange, Shipment

__all__ = ["Base", "Customer", "Order", "OrderItem", "OrderStatusChange", "Shipment"]

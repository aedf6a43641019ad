"""Every table, imported in one place so Alembic and the relationship registry see them all."""

from crm_backend.agents.models import Agent
from crm_backend.audit.models import AuditEntry
from crm_backend.canned.models import CannedResponse
from crm_backend.conversations.models import Conversation, Message
from crm_backend.core.database import Base
from crm_backend.core.sequences import NumberSequence
from crm_backend.customers.models import (
    Customer,
    CustomerAddress,
    CustomerEmail,
    CustomerIdentity,
    CustomerTag,
)
from crm_backend.faq.models import FaqArticle, FaqEmbedding
from crm_backend.handoffs.models import Handoff
from crm_backend.idempotency.models import IdempotencyRecord
from crm_backend.orders.models import Order, OrderItem, OrderReturn, OrderStatusChange, Refund, Shipment
from crm_backend.tickets.models import Ticket, TicketComment

__all__ = [
    "Agent",
    "AuditEntry",
    "Base",
    "CannedResponse",
    "Conversation",
    "Customer",
    "CustomerAddress",
    "CustomerEmail",
    "CustomerIdentity",
    "CustomerTag",
    "FaqArticle",
    "FaqEmbedding",
    "Handoff",
    "IdempotencyRecord",
    "Message",
    "NumberSequence",
    "Order",
    "OrderItem",
    "OrderReturn",
    "OrderStatusChange",
    "Refund",
    "Shipment",
    "Ticket",
    "TicketComment",
]

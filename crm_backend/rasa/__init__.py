"""The CRM's client for Rasa's HTTP API."""

"""Custom actions for the support assistant, served by rasa-sdk (`rasa run actions`)."""

"""The conversation pipeline: Rasa's event stream into the CRM, live updates out to consoles."""

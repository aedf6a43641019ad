"""Development stack: trains the model, starts and stops every service.

Used by `make run` and by the end-to-end tests, so both start the stack the same way.
Standard library only: it runs on the CRM environment's Python but imports no project code.
"""

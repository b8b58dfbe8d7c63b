"""Entry points: HTTP routes and Service Bus triggers. They parse, validate and hand over; no business logic."""

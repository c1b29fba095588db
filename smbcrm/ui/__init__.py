"""Qt widgets, dialogs and item models over the services. No SQL and no business rules here."""

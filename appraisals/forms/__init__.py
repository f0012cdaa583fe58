"""Django forms for review cycles: ``records`` for the appraisal, check-in and plan pages,
``cycles`` for HR's cycle set-up."""

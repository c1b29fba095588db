"""smbcrm: a desktop CRM in which the company, not the salesperson, owns every customer."""

__version__ = "0.1.0"

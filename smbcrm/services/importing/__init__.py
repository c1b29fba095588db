"""Importing spreadsheets: read → map → match → preview → apply as an undoable batch."""

"""Incidents: an event-sourced log of recording and filming in UK GP practices."""

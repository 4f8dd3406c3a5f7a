"""Fairs: organising, who exhibits, the live fair, policy pages, dashboard, exports, attendance."""

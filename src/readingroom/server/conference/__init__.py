"""Live case conferences: a websocket room per session in the serving app (see docs/conference-protocol.md)."""

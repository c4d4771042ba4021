"""The HTTP routes, one module per job; app.py includes their routers in this order."""

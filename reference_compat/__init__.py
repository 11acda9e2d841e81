"""The reference pipeline's HTTP routes (its spec: POST /orders, GET /orders, /orders/{id},
/orders/{id}/stream, /admin/retry|compensate/{id}) on this project's views, so clients written
against that spec work unchanged. No logic of its own: see api.py."""

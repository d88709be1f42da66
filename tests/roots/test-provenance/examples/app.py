"""A tested example file."""


def create_app(name: str) -> dict[str, object]:
    """Build the app."""
    settings = {"name": name}
    routes = ["/healthz", "/readyz"]
    handlers = {route: None for route in routes}
    state = {"ready": False}
    return {
        "settings": settings,
        "routes": routes,
        "handlers": handlers,
        "state": state,
    }


# [start:main]
def main() -> None:
    app = create_app("demo")
    for route in app["routes"]:
        print(route)
    print("one")
    print("two")
    print("three")
    print("four")
    print("five")
# [end:main]

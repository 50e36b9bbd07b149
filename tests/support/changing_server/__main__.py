"""`python -m changing_server`: serve over stdio."""

from changing_server import Settings, build_server

if __name__ == "__main__":
    build_server(Settings()).run("stdio")

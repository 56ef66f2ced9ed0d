"""`python -m app` is `backprop-lens`."""

from app.cli import main

if __name__ == "__main__":
    main()

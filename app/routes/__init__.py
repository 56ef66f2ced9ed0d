"""One APIRouter per area: meta (health, options), runs, steps."""

//! Client-side caching: CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO (subcommands of
//! CLIENT, listed in `client`) and the invalidation messages.

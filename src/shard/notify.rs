//! Keyspace notifications (`notify-keyspace-events`): the classes, and the event a handler
//! raises, delivered as Pub/Sub messages to subscribers on any core.

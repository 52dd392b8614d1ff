//! End-to-end journeys (added with the app).

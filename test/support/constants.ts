// Settings the test Worker runs with.
export const TEST_SECRET = "test-secret-that-is-at-least-32-characters-long";
export const ALLOWED_ORIGIN = "https://app.example.com";

// The stack launcher and Zendesk helpers for end-to-end tests (see scripts/stack.mjs).
export * from '../../scripts/stack.mjs';

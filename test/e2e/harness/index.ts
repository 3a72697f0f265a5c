// The e2e harness in one import: `import { startCodeServer, openWorkbench, … } from './harness';`
export * from './codeServer';
export * from './browser';
export * from './vsix';
export * from './wait';

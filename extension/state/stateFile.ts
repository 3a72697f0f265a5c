/**
 * The state file in rea's format (SPEC §5): its names, its writer and its forgiving reader.
 * One import path for the gateway, `gatehouse status` and the tests, whichever part they use.
 */
export type { PidLiveness } from './probePid';
export { parseStateFile, type StateFileContents, type StateFileDownstream } from './parseStateFile';
export {
  PID_FILE_NAME,
  STATE_FILE_NAME,
  StateFileWriter,
  type StateFileReclaim,
  type StateFileWrite,
  type StateFileWriterOptions,
  type StateFileYield,
} from './stateFileWriter';

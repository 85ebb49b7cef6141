import cjs from './index.js';

export const { start, version, binaryPath, toArgs, ControlError, ServerError, Control, Mock } = cjs;
export default cjs;

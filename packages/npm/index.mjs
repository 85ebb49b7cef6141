import cjs from './index.js';

export const { start, version, binaryPath, ControlError, ServerError, Mock } = cjs;
export default cjs;

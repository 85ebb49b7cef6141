import cjs from './testcontainers.js';

export const { CallerIdMockContainer, StartedCallerIdMock, PORT, defaultImage } = cjs;
export default cjs;

/** Global test setup. The PostgreSQL store adds an embedded server here. */
export default function setup(): void {}

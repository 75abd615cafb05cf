export * from "./wsocket.js";
export { default } from "./wsocket.js";

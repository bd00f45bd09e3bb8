/** The structural pruning engine's public surface. */
export { analyze } from './analyze.js';
export type { ChannelGroup, ProducerChannels } from './groups.js';
export { formatGroup, formatGroups, groupsToJson, type GroupJson } from './format.js';
export { CHANNEL_RULES, registerChannelRule, type AxisSource, type ChannelRule, type ChannelRuleTable, type InputAxis } from './rules/index.js';
export type { NodeContext, ModelFacts } from './context.js';
export type { Labels } from './state.js';
export { pruneChannels, type KeepSpec } from '../pruneChannels.js';
export { channelVectors, type ProducerRows } from '../channelVectors.js';

/**
 * Most actions one `actions` filter may list: more than the trail defines, few enough to read one
 * index range each. In a file of its own, so the service and its tests load it without the
 * decorated GraphQL input types.
 */
export const MAX_FILTER_ACTIONS = 20;

/** One item of the list: a document of the `todos` collection under the key `todo:<created>-<random>`. */
export interface Todo {
  readonly text: string;
  readonly done: boolean;
}

export const TODOS = 'todos';
export const PREFIX = 'todo:';

/** A new item's key: keys sort by creation time, so a scan lists the items in the order they were added. */
export const newTodoKey = (now = Date.now()): string => `${PREFIX}${now.toString(36).padStart(9, '0')}-${Math.random().toString(36).slice(2, 8)}`;

/** The list's title: one document of the `lists` collection. */
export const LISTS = 'lists';
export const LIST_KEY = 'shared';

/* SPDX-License-Identifier: MIT
 *
 * list.h - intrusive doubly linked list (embedded in the element, no
 * allocation).  An initialised head points to itself.
 */
#ifndef NANO_CORE_LIST_H
#define NANO_CORE_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct nano_list {
    struct nano_list *prev, *next;
};

static inline void
nano_list_init(struct nano_list *l)
{
    l->prev = l->next = l;
}

static inline bool
nano_list_empty(const struct nano_list *l)
{
    return l->next == l;
}

/* Insert n before head, i.e. at the tail. */
static inline void
nano_list_append(struct nano_list *head, struct nano_list *n)
{
    n->prev = head->prev;
    n->next = head;
    head->prev->next = n;
    head->prev = n;
}

static inline void
nano_list_remove(struct nano_list *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}

#define nano_list_foreach(it, head) \
    for ((it) = (head)->next; (it) != (head); (it) = (it)->next)

#define nano_list_foreach_safe(it, tmp, head)                              \
    for ((it) = (head)->next, (tmp) = (it)->next; (it) != (head);          \
         (it) = (tmp), (tmp) = (it)->next)

#endif
